// Ranges of minor releases a source patch is for, and how users read them.

/** The minors a patch is for, both ends included; no `through`: every later minor too. */
export interface MinorRange { readonly from: number; readonly through?: number }

export function inMinors(minor: number, range: MinorRange): boolean {
    return minor >= range.from && (range.through === undefined || minor <= range.through);
}

/** `v1.30–v1.33`, `v1.27 and later`: a range as users read it. */
export function minorsText(range: MinorRange, major = 1): string {
    return range.through === undefined ? `v${major}.${range.from} and later` : `v${major}.${range.from}–v${major}.${range.through}`;
}
