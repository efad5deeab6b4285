"""Events the community listens to (registered in apps.ready). Filled in by the behaviour-tags work."""
