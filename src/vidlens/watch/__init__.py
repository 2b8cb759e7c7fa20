"""Watch: live cameras, motion-gated detection, tracking, zones, line counts, alerts and event clips."""
