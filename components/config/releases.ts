// The Kubernetes releases this program is tested on: the newest patch of every supported minor, oldest first.
// The list is JSON so the lab's shell scripts read it too (its newest entry is the lab target's default); not named
// releases.json: ts-node, which Pulumi runs the program with, would resolve "./releases" to it before this file.
// A new upstream minor is one more entry: the patch tests, the lab, bench:versions and the warning follow.
import releases from "./tested-releases.json";
import type { KubernetesVersion } from "./settings";

export const TESTED_RELEASES: readonly string[] = Object.freeze([...releases]);

export function parseRelease(text: string): KubernetesVersion | undefined {
    const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(text);
    return m ? { text, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

const parsed = TESTED_RELEASES.map((r) => {
    const v = parseRelease(r);
    if (v === undefined) {
        throw new Error(`components/config/tested-releases.json: ${JSON.stringify(r)} is not vMAJOR.MINOR.PATCH`);
    }
    return v;
});

export const OLDEST_TESTED: KubernetesVersion = parsed[0];
export const NEWEST_TESTED: KubernetesVersion = parsed[parsed.length - 1];

/** `v1.29–v1.37`: the tested minors as users read them. */
export const TESTED_RANGE_TEXT = `v${OLDEST_TESTED.major}.${OLDEST_TESTED.minor}–v${NEWEST_TESTED.major}.${NEWEST_TESTED.minor}`;

/** The tested release of a minor (its newest patch), if the minor is tested. */
export function testedReleaseOf(minor: number): KubernetesVersion | undefined {
    return parsed.find((v) => v.minor === minor);
}

/**
 * The warning a release newer than every tested minor gets: it is accepted (kubemark's flags have been stable
 * since v1.31), but nobody has seen it run.
 */
export function untestedWarning(version: KubernetesVersion): string | undefined {
    if (version.major === NEWEST_TESTED.major && version.minor <= NEWEST_TESTED.minor) {
        return undefined;
    }
    return `kubernetesVersion ${version.text} is newer than the releases this program is tested on (${TESTED_RANGE_TEXT}, ` +
        `newest ${NEWEST_TESTED.text}): it is built and run as they are, but a new release can change what the hollow ` +
        "kubelet and proxy need (patches, permissions); see bench/results.md, Versions";
}
