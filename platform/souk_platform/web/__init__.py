"""Server-rendered pages: the base layout, login, language choice and the shop admin."""
