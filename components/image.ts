// The kubemark image reference a stack runs: a prebuilt one, or the one pushed for its version.
import type { ImageSource, KubernetesVersion } from "./config";

/** `<registry>/<name>:<version>` for registry images, the reference itself for prebuilt ones. */
export function imageReference(image: ImageSource, version: KubernetesVersion): string {
    return image.kind === "prebuilt" ? image.reference : `${image.registry}/${image.name}:${version.text}`;
}
