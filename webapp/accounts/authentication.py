"""API token authentication with its query written out (it runs on every API vote)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from rest_framework import authentication, exceptions

from webapp.hot_sql import select_one


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check ("Authorization: Token <key>"), reading the token's user in one SQL
    statement instead of the ORM's select_related query (see webapp/hot_sql.py). request.auth
    is the key."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, str]:
        users = get_user_model()._meta.db_table
        user = select_one(
            get_user_model(),
            f"FROM {users} JOIN authtoken_token ON authtoken_token.user_id = {users}.id"
            " WHERE authtoken_token.key = %s",
            [key],
        )
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, key
