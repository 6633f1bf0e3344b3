# Written by hand (the fields of Subject, as makemigrations writes them)

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0005_description_max_length"),
    ]

    operations = [
        migrations.AlterField(
            model_name="subject",
            name="gps_time",
            field=models.FloatField(blank=True, help_text="GPS time of the trigger", null=True),
        ),
        migrations.AddField(
            model_name="subject",
            name="channel",
            field=models.CharField(
                blank=True, help_text="e.g. H1:GDS-CALIB_STRAIN", max_length=128
            ),
        ),
        migrations.AddField(
            model_name="subject",
            name="peak_frequency",
            field=models.FloatField(blank=True, help_text="Hz, of the loudest tile", null=True),
        ),
        migrations.AddField(
            model_name="subject",
            name="central_freq",
            field=models.FloatField(blank=True, help_text="Hz", null=True),
        ),
        migrations.AddField(
            model_name="subject",
            name="bandwidth",
            field=models.FloatField(blank=True, help_text="Hz", null=True),
        ),
        migrations.AddField(
            model_name="subject",
            name="duration",
            field=models.FloatField(
                blank=True,
                help_text="s, of the glitch (not of a spectrogram's window)",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="subject",
            name="snr",
            field=models.FloatField(blank=True, help_text="signal-to-noise ratio", null=True),
        ),
        migrations.AddField(
            model_name="subject",
            name="q_value",
            field=models.FloatField(blank=True, help_text="Q of the loudest tile", null=True),
        ),
    ]
