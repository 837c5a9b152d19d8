"""The Telegram channel: python-telegram-bot's client, our own polling loop and webhook, exactly once."""
