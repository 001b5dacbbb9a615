"""Every service that changes an assignment's state runs in one transaction: workflow.perform refuses to run outside
one, but only where the caller is not already in a transaction, which the tests' own transaction hides on SQLite
(a decorator moved onto a helper left 申请调整 non-atomic; only PostgreSQL's race test saw it)."""
import inspect

import pytest

from banli.handling import services as handling
from banli.replies import services as replies


def _performing_services():
    for module in (handling, replies):
        for name, func in vars(module).items():
            if inspect.isfunction(func) and func.__module__ == module.__name__ and not name.startswith("_"):
                if "workflow.perform(" in inspect.getsource(inspect.unwrap(func)):
                    yield f"{module.__name__}.{name}", func


@pytest.mark.parametrize(("name", "func"), list(_performing_services()), ids=lambda v: v if isinstance(v, str) else "")
def test_each_service_taking_a_workflow_step_is_atomic(name, func):
    # transaction.atomic as a decorator wraps the function (functools.wraps sets __wrapped__).
    assert hasattr(func, "__wrapped__"), f"{name} calls workflow.perform but is not @transaction.atomic"


def test_the_list_is_not_empty():
    names = {name for name, _ in _performing_services()}
    assert "banli.handling.services.adjustment_request" in names and len(names) >= 10
