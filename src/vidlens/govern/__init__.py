"""Govern: AI-generated content labels (GB 45438-2025), integrity signatures, watermarks, triage."""
