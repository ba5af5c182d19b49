"""trustsim: an executable model of a state social-credit system, run on synthetic people."""
