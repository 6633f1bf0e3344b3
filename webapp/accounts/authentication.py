"""API token authentication with its query written out (it runs on every API vote)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from webapp.accounts.services import token_valid_since
from webapp.hot_sql import select_one


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check ("Authorization: Token <key>"), reading the token's user in one SQL
    statement instead of the ORM's select_related query (see webapp/hot_sql.py), and refusing
    a token older than GLITCHLAB_TOKEN_TTL_DAYS. request.auth is the key."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, str]:
        users = get_user_model()._meta.db_table
        since = connection.ops.adapt_datetimefield_value(token_valid_since())
        user = select_one(
            get_user_model(),
            f"FROM {users} JOIN authtoken_token ON authtoken_token.user_id = {users}.id"
            " WHERE authtoken_token.key = %s AND authtoken_token.created >= %s",
            [key, since],
        )
        if user is None:
            # Only a refused token pays for this second look: say why it was refused.
            if Token.objects.filter(key=key).exists():
                raise exceptions.AuthenticationFailed(
                    "Token expired: ask POST /api/token/ for a new one."
                )
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, key
