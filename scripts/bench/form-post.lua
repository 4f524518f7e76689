-- wrk script: a dashboard server function called as the page calls it, a signed-in form POST.
-- BENCH_COOKIE is the session cookie, BENCH_ORIGIN the server's origin, BENCH_FORM the form body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.body = os.getenv("BENCH_FORM")
