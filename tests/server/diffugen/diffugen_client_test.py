#!/usr/bin/env python3
"""DiffuGen's streaming client against `darkroom serve`, end to end over loopback.

The client reads the stream exactly as the seed's Python client does (../shared/seeds/003, "Python
(Client)"): httpx's aiter_lines, each `data:` line parsed as JSON, its phase, progress and message printed
with the seed's format string (which raises on a missing phase), until `done`. The server runs the
embedded default model. ctest sets DARKROOM_BIN.
"""
import asyncio
import base64
import json
import os
import subprocess
import unittest

import httpx

DARKROOM = os.environ.get("DARKROOM_BIN", "build/darkroom")
PHASES = ["initializing", "loading_model", "preparing", "generating", "post_processing", "complete"]


class Server:
    """`darkroom serve --port 0` (the embedded model), stopped with SIGTERM."""

    def __init__(self, *args):
        self.process = subprocess.Popen([DARKROOM, "serve", "--port", "0", *args], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if "serving on" not in line:
            self.process.kill()
            raise RuntimeError("darkroom serve did not start: " + line)
        self.base = line.strip().rsplit(" ", 1)[-1]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


async def generate_with_progress(base, path, body):
    """The seed's client, collecting (event name, data) pairs instead of only printing them."""
    events = []
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", base + path, json=body, timeout=300.0) as response:
            if response.status_code != 200:
                return response.status_code, json.loads(await response.aread()), events
            name = "message"
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                if line.startswith("data:"):
                    data_str = line[5:].strip()
                    data = json.loads(data_str)
                    phase = data.get("phase")
                    progress = data.get("progress", 0)
                    message = data.get("message", "")
                    print(f"[{phase:20s}] {progress:5.1f}% - {message}")
                    events.append((name, data))
                    if data.get("done"):
                        print("Generation complete!")
                        break
    return 200, None, events


def stream(base, path, body):
    return asyncio.run(generate_with_progress(base, path, body))


class DiffugenStreaming(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--job-timeout", "120")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_phases_in_order_progress_grows_to_100_every_step_has_an_eta(self):
        steps = 12
        status, error, events = stream(self.server.base, "/generate/stream", {"prompt": "a red blob", "model": "sd15", "steps": steps})
        self.assertEqual(status, 200, error)
        progress_events = [data for name, data in events if name == "progress"]
        phases = [data["phase"] for data in progress_events]
        order = [PHASES.index(phase) for phase in phases]
        self.assertEqual(order, sorted(order), phases)
        for phase in ("initializing", "preparing", "generating", "post_processing", "complete"):
            self.assertIn(phase, phases)
        percentages = [data["progress"] for name, data in events]
        self.assertEqual(percentages, sorted(percentages), "progress only grows")
        self.assertTrue(all(0 <= p <= 100 for p in percentages))
        self.assertEqual(progress_events[-1]["progress"], 100.0)
        generating = [data for data in progress_events if "step" in data]
        self.assertEqual([data["step"] for data in generating], list(range(1, steps + 1)), "every step, 1-based")
        for data in generating:
            self.assertEqual(data["total_steps"], steps)
            self.assertGreaterEqual(data["eta_seconds"], 0)
            self.assertEqual(data["message"], f"Generating step {data['step']}/{steps}")
        self.assertGreater(generating[0]["progress"], 0, "measured, not a phase weight")
        for _, data in events:
            self.assertIsInstance(data["timestamp"], float)
        name, done = events[-1]
        self.assertEqual(name, "done")
        self.assertTrue(done["done"])
        self.assertEqual(done["progress"], 100.0)
        self.assertEqual(len(done["images"]), 1)
        png = httpx.get(self.server.base + done["images"][0]).content
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")

    def test_an_unknown_model_is_refused_before_the_stream(self):
        status, error, events = stream(self.server.base, "/generate/stream", {"prompt": "x", "model": "no-such-model"})
        self.assertEqual(status, 400)
        self.assertIn("no-such-model", error["detail"])
        self.assertEqual(events, [])
        status, error, _ = stream(self.server.base, "/generate/stream", {"prompt": "x", "model": "flux-schnell"})
        self.assertEqual(status, 400)
        self.assertIn("FLUX", error["detail"])
        status, error, _ = stream(self.server.base, "/generate/flux/stream", {"prompt": "x"})
        self.assertEqual(status, 400)
        self.assertIn("/generate/flux", error["detail"])

    def test_bad_fields_get_fastapis_422_naming_them(self):
        status, error, _ = stream(self.server.base, "/generate/stable/stream", {"prompt": "x", "steps": 0})
        self.assertEqual(status, 422)
        self.assertEqual(error["detail"][0]["loc"], ["body", "steps"])
        status, error, _ = stream(self.server.base, "/generate/stream", {"prompt": "x", "sampling_method": "heun"})
        self.assertEqual(status, 422)
        self.assertEqual(error["detail"][0]["loc"], ["body", "sampling_method"])
        status, error, _ = stream(self.server.base, "/generate/stream", {"model": "sd15"})
        self.assertEqual(error["detail"][0]["loc"], ["body", "prompt"])

    def test_a_job_past_its_timeout_ends_with_an_error_event(self):
        status, error, events = stream(self.server.base, "/generate/stream",
                                       {"prompt": "x", "steps": 200, "timeout_s": 0.5})
        self.assertEqual(status, 200, error)
        name, data = events[-1]
        self.assertEqual(name, "error")
        self.assertEqual(data["phase"], "error")
        self.assertEqual(data["code"], "timeout")
        self.assertIn("time limit", data["error"])
        status, error, _ = stream(self.server.base, "/generate/stream", {"prompt": "x", "timeout_s": 500})
        self.assertEqual(status, 422)
        self.assertEqual(error["detail"][0]["loc"], ["body", "timeout_s"])

    def test_the_openwebui_route_takes_size_and_n(self):
        status, error, events = stream(self.server.base, "/v1/images/generations/stream",
                                       {"prompt": "a blue square", "model": "stable-diffusion-1.5", "size": "64x64", "n": 2, "steps": 4})
        self.assertEqual(status, 200, error)
        self.assertEqual(len(events[-1][1]["images"]), 2)

    def test_the_non_streaming_route_answers_with_the_image(self):
        response = httpx.post(self.server.base + "/generate", json={"prompt": "a red blob", "steps": 4, "seed": 7}, timeout=300)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertTrue(body["success"])
        self.assertEqual(body["parameters"]["seed"], 7)
        self.assertEqual(base64.b64decode(body["image_base64"])[:8], b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
