// Ids for the parts of a quality profile that arrive without one. They are derived from names so that
// the same definition always gets the same ids, and webhooks can name KPIs readably ("greeting").

const maxSlugLength = 60;

/** "Identity verification!" → "identity-verification"; accents dropped, other scripts give "". */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxSlugLength)
    .replace(/-+$/, "");
}

/**
 * Ids for a list of items: given ids are kept; the others are slugs of the names (or `fallback`),
 * made unique against every id already given or assigned with "-2", "-3"…
 */
export function assignIds(
  items: readonly { id?: string | undefined; name: string }[],
  fallback: string,
): string[] {
  const taken = new Set(items.flatMap((item) => (item.id === undefined ? [] : [item.id])));
  return items.map((item) => {
    if (item.id !== undefined) return item.id;
    const base = slugify(item.name) || fallback;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
    taken.add(id);
    return id;
  });
}
