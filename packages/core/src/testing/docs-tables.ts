// Docs and code in step: the codes listed in the first column of a markdown
// table, so each package's test can compare its README with its code table.

/** The body of a `## heading` section of a markdown text ('' when there is none). */
export function markdownSection(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`)
  if (start === -1) return ''
  const end = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, end === -1 ? undefined : end)
}

/** The `code`s in the first column of the table rows of `markdown` (all of it, or one `## heading` section). */
export function tableCodes(markdown: string, heading?: string): string[] {
  const text = heading === undefined ? markdown : markdownSection(markdown, heading)
  return [...text.matchAll(/^\|\s*`([A-Za-z_]+)`\s*\|/gm)].map((m) => m[1] as string)
}
