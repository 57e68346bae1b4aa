"""The OCPP 1.6J central system: a standalone websocket server sharing the database and `services/`.

It never imports the web app (`app/`, `state/`).
"""
