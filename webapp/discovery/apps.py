from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "webapp.discovery"
    verbose_name = "Discovery"
