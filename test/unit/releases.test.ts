// The tested releases, the warning for a newer one, and the look-up of a release before its image is built.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../components/config/read";
import { ConfigError, RawConfig } from "../../components/config/readers";
import { NEWEST_TESTED, OLDEST_TESTED, parseRelease, TESTED_RANGE_TEXT, TESTED_RELEASES, untestedWarning } from "../../components/config/releases";
import type { ReleaseQuery } from "../../components/image/release";
import { ROOT } from "../harness/paths";

const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
`;

function raw(values: Record<string, string>): RawConfig {
    return {
        values: { "kubemark:kubernetesVersion": "v1.37.2", "kubemark:imageRegistry": "127.0.0.1:5000", "kubemark:nodeKubeconfig": "/kc", ...values },
        secretKeys: new Set(), project: "kubemark", stack: "v1-37", env: { HOME: "/home/u" },
    };
}

/** Parses with a look-up that records what it was asked and answers `answer`. */
function parse(values: Record<string, string>, answer?: string) {
    const asked: ReleaseQuery[] = [];
    const lookup = (q: ReleaseQuery) => {
        asked.push(q);
        return answer;
    };
    try {
        parseConfig(raw(values), () => Buffer.from(KUBECONFIG), lookup);
        return { asked, problems: [] as string[] };
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return { asked, problems: [...e.problems] };
    }
}

describe("tested releases", () => {
    it("run from v1.29 to the newest minor, one patch release each, oldest first", () => {
        assert.equal(OLDEST_TESTED.text, TESTED_RELEASES[0]);
        assert.equal(NEWEST_TESTED.text, TESTED_RELEASES[TESTED_RELEASES.length - 1]);
        assert.equal(OLDEST_TESTED.minor, 29);
        assert.equal(TESTED_RANGE_TEXT, `v1.29–v1.${NEWEST_TESTED.minor}`);
        const minors = TESTED_RELEASES.map((r) => parseRelease(r)!.minor);
        assert.deepEqual(minors, Array.from({ length: minors.length }, (_, i) => 29 + i), "every minor, none twice");
    });

    it("are what the demo's stack and the newest stack file run (npm run demo checks it too)", () => {
        const version = (file: string) => /^\s*kubemark:kubernetesVersion: (\S+)$/m.exec(fs.readFileSync(path.join(ROOT, file), "utf8"))?.[1];
        assert.equal(version("Pulumi.lab.yaml"), NEWEST_TESTED.text);
        assert.equal(version(`Pulumi.v1-${NEWEST_TESTED.minor}.yaml`), NEWEST_TESTED.text);
    });

    const warnings: [string, RegExp | undefined][] = [
        [OLDEST_TESTED.text, undefined],
        ["v1.31.0", undefined],
        [`v1.${NEWEST_TESTED.minor}.0`, undefined],
        [`v1.${NEWEST_TESTED.minor}.99`, undefined],
        [`v1.${NEWEST_TESTED.minor + 1}.0`, new RegExp(`kubernetesVersion v1\\.${NEWEST_TESTED.minor + 1}\\.0 is newer than the releases this program is tested on \\(v1\\.29–v1\\.${NEWEST_TESTED.minor}, newest ${NEWEST_TESTED.text.replace(/\./g, "\\.")}\\)`)],
        ["v2.0.0", /v2\.0\.0 is newer than the releases/],
    ];
    for (const [version, want] of warnings) {
        it(`${version}: ${want ? "accepted with a warning naming the tested range" : "no warning"}`, () => {
            const got = untestedWarning(parseRelease(version)!);
            if (want === undefined) {
                assert.equal(got, undefined);
            } else {
                assert.match(got ?? "", want);
            }
        });
    }
});

describe("release look-up before the build", () => {
    it("asks where the build will fetch: the module proxy or the git remote", () => {
        assert.deepEqual(parse({ "kubemark:imageSource": "module" }).asked, [{ version: "v1.37.2", source: "module", gitRepository: "https://github.com/kubernetes/kubernetes.git" }]);
        assert.deepEqual(parse({ "kubemark:gitRepository": "file:///srv/k8s.git" }).asked, [{ version: "v1.37.2", source: "git", gitRepository: "file:///srv/k8s.git" }]);
    });

    it("lists a release the source lacks with the other problems, naming the key, the version and where it looked", () => {
        const { problems } = parse({ "kubemark:kubernetesVersion": "v1.31.99" }, "v1.31.99 is not a tag of https://example.test/k.git (git ls-remote found no refs/tags/v1.31.99)");
        assert.deepEqual(problems, ["kubemark:kubernetesVersion = v1.31.99: v1.31.99 is not a tag of https://example.test/k.git (git ls-remote found no refs/tags/v1.31.99)"]);
    });

    it("does not look up a prebuilt image's release, nor any release while other keys are wrong", () => {
        assert.deepEqual(parse({ "kubemark:imageRegistry": "", "kubemark:image": "r.example/kubemark:v1.31.99" }, "never").asked, []);
        const bad = parse({ "kubemark:replicas": "-1" }, "never");
        assert.deepEqual(bad.asked, []);
        assert.equal(bad.problems.length, 1);
        assert.deepEqual(parse({ "kubemark:kubernetesVersion": "v1.2" }, "never").asked, []);
    });
});
