// Real upstream Kubernetes sources from the Go module proxy, cached in the Go module cache.
import { execFileSync } from "node:child_process";

/** Downloads (once; the Go module cache keeps it) k8s.io/kubernetes@release and returns its source folder. */
export function upstreamSource(release: string): string {
    const out = execFileSync("go", ["mod", "download", "-json", `k8s.io/kubernetes@${release}`], {
        encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" }, cwd: "/", timeout: 600_000,
    });
    const info = JSON.parse(out) as { Dir?: string; Error?: string };
    if (!info.Dir) {
        throw new Error(`go mod download k8s.io/kubernetes@${release}: ${info.Error ?? out}`);
    }
    return info.Dir;
}
