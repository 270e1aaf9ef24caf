"""Demo data: organisations, staff, fifty citizens and two proxies (manage.py seed_demo)."""
