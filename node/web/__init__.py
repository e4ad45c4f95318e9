"""The web app a node serves on its API port, for members on a cheap phone.

Pages are rendered on the node from its state (pages.py) in the reader's
language (i18n.py, gettext catalogues in locales/), with no script needed
to read them. Acts are signed in the browser (static/app.js over
static/ayllu-crypto.js, built from js/): the member key never reaches the
node, and a vote's ring signature is made where the member is, so the node
never holds what would link a vote to a member.
"""
