"""定制众筹 custom-requirement crowdfunding: merchants post needs, co-fund them with escrowed pledges,
developers propose and deliver an app version, backers vote, and the money is released or refunded."""
