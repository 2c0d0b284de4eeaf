"""Client conformance (PROFILE.md section 11, issue 11): the suite plays the platform and the other parties,
runs the client under test in scenarios, and judges what it sends and how it reacts.

`ixit` loads the client IXIT, `platform` is the instrumented harness platform, `parties` the counterparts,
`scenarios` runs the client, `judge` and `goals` find the broken rules, `suite` turns them into test case
verdicts, `plugin` is the pytest glue (`interflex-ats --client-ixit FILE`).
"""
