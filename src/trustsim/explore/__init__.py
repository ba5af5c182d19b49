"""`trustsim explore`: a local web page where a lever is moved and the system rerun beside its preset.

levers.py  which settings the page offers, in plain words, with the schema's ranges (no Streamlit)
runs.py    the changed and unchanged runs, same seed, serialised by a lock and cached; the YAML download
app.py     the Streamlit page itself (run by Streamlit, never imported by trustsim)
server.py  starts Streamlit on 127.0.0.1 with everything that could reach the network turned off

Streamlit is an optional extra (`pip install 'trustsim[explore]'`); only app.py and the server's
child process import it.
"""
