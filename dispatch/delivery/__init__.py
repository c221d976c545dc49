"""What leaves the service for other parties: assignments to the agencies' own systems
(docs/agencies.md), and text messages to callers (``sms``).

Every active webhook has a Redis consumer group on its agency's stream
(``dispatch.pipeline.bus.agency_stream``); every server process runs one worker per webhook in that
group, so the processes share the work and each event is handled once. A worker POSTs each
event, signed, to the webhook; it acknowledges (XACK) only after the receiver accepted, so
an event a dead process had in hand stays pending and another worker claims it (XAUTOCLAIM)
after ``DISPATCH_DELIVERY_CLAIM_IDLE_S``. Failures retry with exponential backoff and jitter;
after ``DISPATCH_DELIVERY_MAX_ATTEMPTS`` the event goes to the agency's dead-letter stream,
from which supervisors replay it. Events of one ticket reach a webhook in order.

Modules: ``signing`` (HMAC headers, a receiver's check), ``payload`` (the webhook body),
``sender`` (one HTTP attempt), ``streams`` (keys, consumer groups), ``worker`` (one
webhook's loop), ``service`` (the workers of a process, its cleanup context), ``dead``
(dead letters: list, replay), ``sms`` (texts to callers, with its own queue table).
"""
