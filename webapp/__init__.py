"""The GlitchLab Django project; every Django app lives in a package below this one."""
