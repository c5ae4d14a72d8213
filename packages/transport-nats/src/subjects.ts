// NATS subject patterns: `*` matches one token, `>` the rest (one or more).

/** True when `subject` (no wildcards) matches `pattern`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    const token = p[i]
    if (token === '>') return s.length > i
    if (i >= s.length) return false
    if (token !== '*' && token !== s[i]) return false
  }
  return p.length === s.length
}
