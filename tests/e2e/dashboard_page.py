"""What the models dashboard's browser tests share: an admin, "boss", on /modeling/."""


def admin_on_dashboard(page, django_user_model) -> None:
    django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-boss")
    page.goto("/accounts/login/?next=/modeling/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pw-boss")
    page.click("button[type=submit]")
    page.wait_for_url("**/modeling/")
