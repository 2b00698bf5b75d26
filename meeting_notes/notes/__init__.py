"""CRM-ready sales notes from a speaker-attributed transcript, through any OpenAI-compatible LLM.

Modules: ``schema`` (notes models), ``prompts`` (versioned prompt files), ``chunking`` (token
estimates, map-reduce chunks), ``redact`` (emails, phones, card numbers), ``llm_client``
(retries, structured output, repair, cache), ``local_server`` (the embedded llama.cpp server),
``endpoint`` (which endpoint the settings name, the client), ``prefilter`` / ``passes`` (the
candidate finders and the questions to the model), ``numerals`` / ``money`` / ``dates``
(recognizer-shaped numbers, amounts, dates), ``evidence`` (quote check), ``render`` (notes.md),
``generate`` (the whole step). The stage that runs it is :mod:`meeting_notes.stages.notes`.
"""
