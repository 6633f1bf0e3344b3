"""factory-boy factories for the web app; images are tiny PNGs drawn with PIL."""

from __future__ import annotations

import io
import uuid

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import override_settings
from PIL import Image

from webapp.labeling import services
from webapp.labeling.models import GlitchClass, Subject, SubjectImage, VolunteerProfile
from webapp.modeling.models import ModelVersion, Prediction


def tiny_png(colour: tuple[int, int, int] = (30, 120, 200), size: tuple[int, int] = (32, 24)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def glitch_class(name: str) -> GlitchClass:
    """The seeded row (data migration) for a registry class."""
    return GlitchClass.objects.get(name=name)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"volunteer{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            self.save()
            VolunteerProfile.objects.get_or_create(user=self, defaults=kwargs or {})


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject
        skip_postgeneration_save = True

    external_id = factory.LazyFunction(lambda: f"H1_{uuid.uuid4().hex[:10]}")
    source = "test"
    ifo = "H1"
    role = Subject.Role.POOL

    @factory.post_generation
    def images(self, create, extracted, **kwargs):
        if not create:
            return
        durations = extracted if extracted is not None else (0.5, 1.0, 2.0, 4.0)
        for i, duration in enumerate(durations):
            image = SubjectImage(subject=self, duration=duration)
            image.image.save(
                f"{self.external_id}_{duration}.png",
                ContentFile(tiny_png((30 + 50 * i, 120, 200))),
                save=False,
            )
            image.save()


def gold_subject(label: str, **kwargs) -> Subject:
    return SubjectFactory(role=Subject.Role.GOLD, gold_label=glitch_class(label), **kwargs)


def handed_out(volunteer, subject: Subject) -> Subject:
    """`subject` handed to `volunteer` by the queue (services.subject_next_hand_out), as the
    labelling page gets it, with its assignment. A gold one becomes their gold due, and only
    a vote on their gold due scores as a gold answer. Fails if the queue would hand out
    another subject."""
    # A gold turn for a gold subject, a pool turn for a pool one (turns are drawn otherwise).
    with override_settings(GLITCHLAB_GOLD_RATE=1.0 if subject.is_gold else 0.0):
        served = services.subject_next_hand_out(volunteer=volunteer)
    assert served is not None and served.pk == subject.pk, (served, subject)
    return served


def active_prediction(subject: Subject, probabilities: dict[str, float]) -> Prediction:
    model, _ = ModelVersion.objects.get_or_create(name="test-model", defaults={"is_active": True})
    return Prediction.objects.create(
        model_version=model,
        subject=subject,
        probabilities=probabilities,
        predicted_label=max(probabilities, key=probabilities.get),
    )
