// The image pipeline's preflight and git fetch steps, run for real against a local repository.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

import { ROOT } from "../harness/paths";

function step(name: string, env: Record<string, string>) {
    const r = spawnSync("/bin/bash", ["scripts/kubemark-image.sh", name], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe("image pipeline steps", () => {
    it("preflight names every missing tool", () => {
        // A PATH holding only what the script needs before its check: none of the build tools.
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "bin-"));
        fs.symlinkSync(execFileSync("bash", ["-c", "command -v dirname"], { encoding: "utf8" }).trim(), path.join(bin, "dirname"));
        const r = step("preflight", { PATH: bin, KM_VERSION: "v1.31.0", KM_SOURCE: "git", KM_CACHE: "/tmp/x", KM_NODE: "node" });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /error: not found on PATH: go docker node git make; building kubemark from git source needs go docker node git make/);
    });

    it("git fetch clones the tag shallowly, reuses a complete clone, replaces a partial one, and leaves nothing half-made on failure", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gitfetch-"));
        const repo = path.join(tmp, "kubernetes");
        const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { encoding: "utf8" }).trim();
        fs.mkdirSync(repo);
        git("init", "-q");
        fs.writeFileSync(path.join(repo, ".go-version"), "1.22.5\n");
        git("add", ".");
        git("commit", "-qm", "one");
        git("tag", "v1.31.0");
        fs.writeFileSync(path.join(repo, "later"), "x");
        git("add", ".");
        git("commit", "-qm", "two");
        const tagCommit = git("rev-parse", "v1.31.0^{commit}");
        const env = { KM_VERSION: "v1.31.0", KM_SOURCE: "git", KM_CACHE: path.join(tmp, "cache"), KM_GIT_URL: `file://${repo}` };
        const clone = path.join(tmp, "cache", "git", "v1.31.0");

        const first = step("fetch", env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.stdout, `git ${tagCommit}`);
        assert.equal(execFileSync("git", ["-C", clone, "rev-list", "--count", "HEAD"], { encoding: "utf8" }).trim(), "1", "shallow");
        assert.ok(!fs.existsSync(path.join(clone, "later")), "the tag, not the branch head");

        const second = step("fetch", env);
        assert.equal(second.code, 0);
        assert.match(second.stderr, /reusing the clone/);

        fs.rmSync(path.join(clone, ".git", "kubemark-complete"));
        const third = step("fetch", env);
        assert.equal(third.code, 0);
        assert.match(third.stderr, /replacing a partial or different clone/);
        assert.equal(third.stdout, `git ${tagCommit}`);

        const missing = step("fetch", { ...env, KM_VERSION: "v1.99.0" });
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /git clone --depth 1 --branch v1\.99\.0 .* failed/);
        assert.ok(!fs.existsSync(path.join(tmp, "cache", "git", "v1.99.0")), "no half-made clone under the release's name");
        fs.rmSync(tmp, { recursive: true, force: true });
    });
});
