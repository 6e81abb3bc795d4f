"""Piccolo's configuration module: the engine create_app chose, and the one app registry.

Piccolo's migration machinery looks the engine up here (`DB`); `server.db.configure` sets it.
"""

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])

_engine = None


def set_engine(engine) -> None:
    global _engine
    _engine = engine


def __getattr__(name: str):
    if name == "DB":
        if _engine is None:
            # Only the `piccolo` developer command gets here (migrations new --auto); the app
            # itself always configures the engine from its Settings first.
            from server.db import make_engine
            from server.settings import Settings

            set_engine(make_engine(Settings.from_env()))
        return _engine
    raise AttributeError(name)
