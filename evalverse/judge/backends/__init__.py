"""Judge backends: `evidence` (offline, deterministic checks on operator evidence), `transformers`
(a local vision-language model) and `openai` (any OpenAI-compatible chat endpoint)."""
