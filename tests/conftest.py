import pytest

from catalog.models import Role
from tests.factories import UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", role=Role.EDITOR)


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", role=Role.VIEWER, is_staff=True)
