"""Data migrations keep what is stored: 0003 counts each volunteer's existing votes."""

import pytest
from migrating import migrate_to, schema_at

BEFORE = [("labeling", "0002_seed_glitch_classes")]
AFTER = [("labeling", "0003_volunteerprofile_n_classified")]


@pytest.mark.django_db(transaction=True)
def test_0003_counts_the_votes_each_volunteer_had_already_given():
    with schema_at(BEFORE) as old:
        User = old.get_model("auth", "User")
        Profile = old.get_model("labeling", "VolunteerProfile")
        Subject = old.get_model("labeling", "Subject")
        Vote = old.get_model("labeling", "Classification")
        # get_or_create: an earlier transactional test may have flushed the seeded classes
        blip, _ = old.get_model("labeling", "GlitchClass").objects.get_or_create(name="Blip")
        busy, idle = User.objects.create(username="busy"), User.objects.create(username="idle")
        for user in (busy, idle):
            Profile.objects.create(user=user)
        for i in range(3):
            subject = Subject.objects.create(external_id=f"m{i}", source="migration")
            Vote.objects.create(volunteer=busy, subject=subject, glitch_class=blip)

        new = migrate_to(AFTER).get_model("labeling", "VolunteerProfile")
        counts = dict(new.objects.values_list("user__username", "n_classified"))
        assert counts == {"busy": 3, "idle": 0}
