"""People and credentials: users, web login, shop access tokens, the scope registry."""
