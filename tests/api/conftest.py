import pytest
from django.db import connection
from rest_framework.test import APIClient

#: What the relation ids and the tracking of a page of resources cost: on PostgreSQL they
#: come with its rows (`selectors.with_details`), elsewhere in a query each.
DETAIL_QUERIES = 0 if connection.vendor == "postgresql" else 2


@pytest.fixture
def anonymous():
    return APIClient()
