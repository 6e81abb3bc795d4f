"""A sync client in a few lines of httpx: sign in as a device, push a note, pull every change.

    python docs/examples/sync_client.py http://127.0.0.1:8000 lotse1 demo

It follows docs/sync-protocol.md and nothing else; a test runs it against a live server.
"""

import sys
import uuid

import httpx


def main(base_url: str, login: str, password: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        http.get("/login")  # any GET sets the CSRF cookie; send it back as a header
        csrf = http.cookies.get("__Host-csrf") or http.cookies.get("lotsenbuch-csrf")
        headers = {"x-csrftoken": csrf}
        session = http.post("/api/session", json={"login": login, "password": password, "device_name": "Skript"},
                            headers=headers)
        session.raise_for_status()
        device_id = session.json()["device_id"]

        note_id = str(uuid.uuid4())
        body = {
            "device_id": device_id, "schema": 1, "cursor": None,
            "mutations": [{"mutation_id": 1, "entity": "note", "id": note_id, "op": "upsert", "base_version": None,
                           "fields": {"body": "Notiz aus dem Skript", "shared": True}}],
        }
        records = {}
        while True:
            response = http.post("/api/sync", json=body, headers=headers)
            if response.status_code == 503:
                continue  # transient: nothing was applied; send the same request again
            response.raise_for_status()
            page = response.json()
            for result in page["results"]:
                print(f"mutation {result['mutation_id']}: {result['status']} (version {result.get('version')})")
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change["op"] == "upsert":
                    records[key] = change["fields"]
                else:
                    records.pop(key, None)
            if page["reset_required"]:
                records.clear()
            body = {"device_id": device_id, "schema": 1, "cursor": page["cursor"], "mutations": []}
            if not page["has_more"] and not page["reset_required"]:
                break
        print(f"{len(records)} records on this device; the new note says: {records[('note', note_id)]['body']}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
