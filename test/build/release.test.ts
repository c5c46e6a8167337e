// The release look-up for real: the Go module proxy the build uses, and git remotes on disk.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { NEWEST_TESTED } from "../../components/config/releases";
import { lookupGitRelease, lookupModuleRelease } from "../../components/image/release";

describe("release look-up", () => {
    it(`finds ${NEWEST_TESTED.text} on the Go module proxy, and names what it lists for a release it lacks`, () => {
        assert.equal(lookupModuleRelease(NEWEST_TESTED.text), undefined);
        const missing = lookupModuleRelease("v1.31.99") ?? "";
        assert.match(missing, /^v1\.31\.99 is not a release the Go module proxy \(.*proxy.*\) serves as k8s\.io\/kubernetes: .*v1\.31\.99/);
        assert.match(missing, /\(it lists v1\.31\.\d+.* for v1\.31\)$/);
    });

    it("says go is missing rather than that the release is", () => {
        assert.match(lookupModuleRelease("v1.31.0", { ...process.env, PATH: "/nonexistent" }) ?? "", /^go is not on PATH/);
    });

    it("finds a tag of a git remote, and names the remote when it lacks the tag or cannot be reached", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-git-"));
        const git = (...args: string[]) => execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { stdio: "ignore" });
        git("init", "-q");
        git("commit", "-q", "--allow-empty", "-m", "one");
        git("tag", "v1.37.2");
        assert.equal(lookupGitRelease("v1.37.2", `file://${dir}`), undefined);
        assert.equal(lookupGitRelease("v1.37.20", `file://${dir}`), `v1.37.20 is not a tag of file://${dir} (git ls-remote found no refs/tags/v1.37.20)`);
        assert.match(lookupGitRelease("v1.37.2", `file://${dir}-gone`) ?? "", new RegExp(`^could not ask file://${dir}-gone for tag v1\\.37\\.2: .+`));
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
