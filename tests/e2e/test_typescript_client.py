"""A TypeScript client generated from the served OpenAPI schema works unchanged: openapi-typescript
turns /api/schema/ into types, and a small typed walk over the events and the audit log
compiles with ``tsc --strict`` and then runs with node against the live server; a walk that
uses a filter or a field the schema doesn't have must not compile, so the types are the
schema's, not ``any``.

openapi-typescript and typescript come from tests/e2e/node_modules, as axe-core does (npm ci,
see harness.npm_file): without npm the test is skipped, or fails with E2E_REQUIRED=1.
"""

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from catalog.services.keys import api_key_create
from tests.e2e.harness import node_tool, skip_or_fail
from tests.factories import SYSTEM

TSC_STRICT = ["--strict", "--target", "es2020", "--lib", "es2020,dom"]
TSC_OPTIONS = [*TSC_STRICT, "--noEmit"]

# Typed GET and PATCH over the generated `paths`: a path the schema doesn't have, a parameter
# or body field it doesn't know, or a field read off a response it doesn't list is an error.
CLIENT_TS = """\
import type { components, paths } from "./api";

type GetPath = { [P in keyof paths]: paths[P] extends { get: object } ? P : never }[keyof paths];
type PatchPath = {
  [P in keyof paths]: paths[P] extends { patch: object } ? P : never;
}[keyof paths];
type GetOp<P extends GetPath> = paths[P] extends { get: infer O } ? O : never;
type PatchOp<P extends PatchPath> = paths[P] extends { patch: infer O } ? O : never;
type Params<O> = O extends { parameters: infer A } ? A : never;
type Ok<O> = O extends {
  responses: { 200: { content: { "application/json": infer B } } };
}
  ? B
  : never;
type JsonBody<O> = O extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

type LooseParams = {
  path?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | undefined>;
};

export class Client {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  private url(path: string, params: LooseParams): string {
    const filled = path.replace(/[{](\\w+)[}]/g, (_, name: string) =>
      encodeURIComponent(String(params.path?.[name])),
    );
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params.query ?? {})) {
      if (value !== undefined) query.set(key, String(value));
    }
    const search = query.toString();
    return this.base + filled + (search ? `?${search}` : "");
  }

  private async send<T>(method: string, url: string, body?: unknown): Promise<T> {
    const response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
    return (await response.json()) as T;
  }

  get<P extends GetPath>(path: P, params: Params<GetOp<P>>): Promise<Ok<GetOp<P>>> {
    return this.send("GET", this.url(path, params as LooseParams));
  }

  patch<P extends PatchPath>(
    path: P,
    params: Params<PatchOp<P>>,
    body: JsonBody<PatchOp<P>>,
  ): Promise<Ok<PatchOp<P>>> {
    return this.send("PATCH", this.url(path, params as LooseParams), body);
  }
}

export type Event = components["schemas"]["Event"];
"""

WALK_TS = """\
import type { components } from "./api";
import { Client, type Event } from "./client";

type ChangeSet = components["schemas"]["ChangeSet"];

export async function walk(client: Client): Promise<string[]> {
  const seen: string[] = [];

  const page = await client.get("/api/v1/event/events", {
    query: { published: true, title: "Signed Up", page_size: 10 },
  });
  const count: number = page.count;
  const first: Event = page.results[0];
  const title: string = first.title;
  seen.push(`${count} events, first: ${title}`);

  const updated = await client.patch(
    "/api/v1/event/events/{id}",
    { path: { id: first.id } },
    { description: "Sent once a sign-up completes.", pii: false, verified: true },
  );
  const description: string | undefined = updated.description;
  seen.push(`described: ${description ?? ""}`);

  const history = await client.get("/api/v1/event/events/{id}/history", {
    path: { id: first.id },
    query: { page: 1 },
  });
  for (const change of history.results) {
    const who: string = change.actor.name;
    const fields: string[] = Object.keys(change.diff).sort();
    seen.push(`${change.action} by ${who}: ${fields.join(", ")}`);
  }

  const changes = await client.get("/api/v1/changes", {
    query: { object_id: first.id, page_size: 5 },
  });
  const sets: ChangeSet[] = changes.results;
  for (const set of sets) {
    for (const change of set.changes) {
      seen.push(`${set.source} ${change.object_type} ${change.title} (${change.action})`);
    }
  }
  return seen;
}
"""

# A filter, a body field and a response field the schema doesn't have: each must be an error.
BROKEN_TS = """\
import { Client } from "./client";

export async function broken(client: Client): Promise<void> {
  const page = await client.get("/api/v1/event/events", { query: { no_such_filter: 1 } });
  const gone: string = page.results[0].no_such_field;
  await client.patch("/api/v1/event/events/{id}", { path: { id: "x" } }, { no_such_body: 1 });
  console.log(gone);
}
"""


def run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_typescript_types_from_the_schema_compile_a_typed_walk_that_runs(
    live_server, tmp_path: Path, checkout, editor
):
    openapi_typescript = node_tool("openapi-typescript")
    tsc = node_tool("tsc")
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is missing: install Node.js (e.g. apt-get install nodejs)")
        return  # unreachable: skip_or_fail raises
    request = urllib.request.Request(
        f"{live_server.url}/api/schema/", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        schema = json.load(response)
    assert "/api/v1/event/events/{id}/history" in schema["paths"]
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")

    generated = run([openapi_typescript, "schema.json", "-o", "api.d.ts"], tmp_path)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    types = (tmp_path / "api.d.ts").read_text(encoding="utf-8")
    assert '"/api/v1/changes": {' in types

    (tmp_path / "client.ts").write_text(CLIENT_TS, encoding="utf-8")
    (tmp_path / "walk.ts").write_text(WALK_TS, encoding="utf-8")
    compiled = run([tsc, *TSC_OPTIONS, "walk.ts"], tmp_path)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr

    (tmp_path / "broken.ts").write_text(BROKEN_TS, encoding="utf-8")
    refused = run([tsc, *TSC_OPTIONS, "broken.ts"], tmp_path)
    assert refused.returncode != 0, "tsc accepted fields the schema doesn't have"
    errors = refused.stdout + refused.stderr
    for name in ("no_such_filter", "no_such_field", "no_such_body"):
        assert f"'{name}'" in errors, errors
    assert "client.ts" not in errors and "api.d.ts" not in errors, errors

    # The walk, compiled for real, against the live server with an editor's API key.
    emitted = run(
        [tsc, *TSC_STRICT, "--module", "commonjs", "--outDir", "out", "walk.ts"], tmp_path
    )
    assert emitted.returncode == 0, emitted.stdout + emitted.stderr
    _, secret = api_key_create(ctx=SYSTEM, user=editor)
    script = (
        "const { Client } = require('./out/client.js');"
        "const { walk } = require('./out/walk.js');"
        "walk(new Client(process.argv[1], process.argv[2]))"
        ".then((seen) => console.log(JSON.stringify(seen)))"
        ".catch((error) => { console.error(error); process.exit(1); });"
    )
    ran = run([node, "-e", script, live_server.url, secret], tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    seen = json.loads(ran.stdout)
    assert seen[:2] == ["1 events, first: Signed Up", "described: Sent once a sign-up completes."]
    assert seen[2:] == ["update by editor: description, verified", "api event Signed Up (update)"]
    checkout.other_event.refresh_from_db()
    assert checkout.other_event.verified is True
