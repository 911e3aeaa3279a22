/** The response both targets send: a workflow list of ~3 KB of JSON (above the 1 KB compression threshold). */
export const BODY = {
  success: true,
  data: Array.from({ length: 20 }, (_, i) => ({
    id: `wf-${i}`,
    name: `Lead nurture workflow ${i}`,
    status: i % 3 === 0 ? 'draft' : 'published',
    healthScore: 60 + ((i * 7) % 40),
    issuesFound: i % 5,
    updatedAt: '2026-11-20T10:00:00.000Z',
  })),
};
