"""The WhatsApp channel: Cloud API webhooks in, Graph API calls out (see `channel.WhatsApp`)."""

CHANNEL = "whatsapp"
