"""The demo: the named demo data set (`manage.py load_demo`, `demo_accounts`, `make demo`), the generator of load-test
data at scale (`load_demo --scale N`) and the demo-mode sign-in backend. Nothing else in Banli depends on it, except
the benchmarks and the load test that fill a database with its generator."""
