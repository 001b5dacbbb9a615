"""One registry of the actions on an assignment, served to the pages and to the API from one definition.

Each action names its workflow transition(s) (the permission row), its page form, its API serializer, its
Chinese label and the one function that calls the services. Forms and serializers both clean their input to
the same shape, so the service call is written once.
"""
