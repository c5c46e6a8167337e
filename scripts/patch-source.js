// @ts-check
// Applies kubemark source patches by exact anchor text and adds their new files; run by the pipeline's patch step.
"use strict";
const fs = require("fs");
const path = require("path");

/**
 * @typedef {{ readonly anchor: string, readonly replacement: string }} Variant
 * @typedef {{ readonly file: string, readonly content: string }} AddedFile a whole new file, path under the root
 * @typedef {{ readonly id: string, readonly file: string, readonly variants: readonly Variant[],
 *   readonly adds?: readonly AddedFile[] }} SourcePatch
 * @typedef {{ status: "applied" | "already-applied", text: string }} PatchResult
 */

/**
 * Applies one patch to a file's text. A patch whose replacement is already there changes
 * nothing; otherwise exactly one variant's anchor must occur exactly once.
 * @param {string} text
 * @param {SourcePatch} patch
 * @param {string} release for messages
 * @returns {PatchResult}
 */
function applyPatchText(text, patch, release) {
    if (patch.variants.some((v) => text.includes(v.replacement))) {
        return { status: "already-applied", text };
    }
    for (const v of patch.variants) {
        const first = text.indexOf(v.anchor);
        if (first < 0) {
            continue;
        }
        if (text.indexOf(v.anchor, first + 1) >= 0) {
            throw new Error(`patch ${patch.id}: its anchor occurs more than once in ${patch.file} of ${release}`);
        }
        return { status: "applied", text: text.slice(0, first) + v.replacement + text.slice(first + v.anchor.length) };
    }
    throw new Error(`patch ${patch.id} is needed for ${release} but its anchor text is not in ${patch.file}: ` +
        "the source differs from what the patch was written for; disable the patch in config if this release no longer needs it");
}

/**
 * Checks that a file a patch adds is new to the release (an upstream file of that name would be silently replaced) or
 * is there already with the same content (in place, a second run). Returns whether it is there already.
 * @param {string} root
 * @param {AddedFile} add
 * @param {SourcePatch} patch
 * @param {string} release
 */
function addedFileThere(root, add, patch, release) {
    const file = path.join(root, add.file);
    if (!fs.existsSync(file)) {
        return false;
    }
    if (fs.readFileSync(file, "utf8") === add.content) {
        return true;
    }
    throw new Error(`patch ${patch.id} adds ${add.file}, but ${release} has a different file of that name`);
}

/**
 * Patches files under `root`. In "overlay" mode the sources stay untouched (a read-only Go
 * module cache) and patched copies go to `outDir` with a go build -overlay map; in "in-place"
 * mode (a git clone) the files change in place; the build script restores them from git first,
 * so a changed patch set starts clean.
 * @param {{ root: string, release: string, patches: readonly SourcePatch[], mode: "overlay" | "in-place", outDir?: string }} req
 * @returns {string[]} one report line per patch
 */
function patchTree(req) {
    const lines = [];
    /** @type {Record<string, string>} */
    const replace = {};
    const texts = new Map();
    for (const patch of req.patches) {
        const file = path.join(req.root, patch.file);
        const before = texts.get(file) ?? fs.readFileSync(file, "utf8");
        const result = applyPatchText(before, patch, req.release);
        texts.set(file, result.text);
        lines.push(`patch ${patch.id}: ${result.status} in ${patch.file}`);
        for (const add of patch.adds ?? []) {
            const there = addedFileThere(req.root, add, patch, req.release);
            if (texts.has(path.join(req.root, add.file))) {
                throw new Error(`patch ${patch.id} adds ${add.file}, which another patch of the set adds or edits`);
            }
            texts.set(path.join(req.root, add.file), add.content);
            lines.push(`patch ${patch.id}: ${there ? "already-added" : "added"} ${add.file}`);
        }
    }
    // An overlay may add files (go build -overlay maps a path that does not exist): added and edited files are alike.
    for (const [file, text] of texts) {
        if (req.mode === "in-place") {
            fs.writeFileSync(file, text);
        } else {
            const out = path.join(/** @type {string} */ (req.outDir), path.relative(req.root, file));
            fs.mkdirSync(path.dirname(out), { recursive: true });
            fs.writeFileSync(out, text);
            replace[file] = out;
        }
    }
    if (req.mode === "overlay") {
        fs.mkdirSync(/** @type {string} */ (req.outDir), { recursive: true });
        fs.writeFileSync(path.join(/** @type {string} */ (req.outDir), "overlay.json"), JSON.stringify({ Replace: replace }, null, 2));
    }
    return lines;
}

module.exports = { applyPatchText, patchTree };

if (require.main === module) {
    // Usage: node patch-source.js <root> <release> <in-place|overlay> [outDir]; patches as JSON in KUBEMARK_PATCHES.
    const [root, release, mode, outDir] = process.argv.slice(2);
    try {
        const patches = JSON.parse(process.env.KUBEMARK_PATCHES ?? "[]");
        for (const line of patchTree({ root, release, patches, mode: mode === "in-place" ? "in-place" : "overlay", outDir })) {
            console.log(line);
        }
    } catch (e) {
        console.error(`error: ${/** @type {Error} */ (e).message}`);
        process.exit(1);
    }
}
