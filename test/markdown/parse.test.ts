import { parseExample } from './parse';

describe('Markdown example parsing', () => {
  const doc = [
    '# Kernel2Kernel',
    'Text that mentions Run and # signs in prose is documentation.',
    '## Requires',
    '- [setup](../../setup/one-node) and [other](../x)',
    '- plain bullet without a link',
    '## Run',
    'Start:',
    '```bash',
    '# a bash comment is not a heading',
    'nsm-local apply -f - <<EOF',
    'pods: []',
    'EOF',
    '```',
    '```yaml',
    'not: executed',
    '```',
    '## Running notes',
    '```bash',
    'echo never',
    '```',
    '## Cleanup',
    '```bash',
    'nsm-local delete nsc',
    '```',
  ].join('\n');

  test('sections, steps and the first link per line', () => {
    const ex = parseExample(doc, 'use-cases/Kernel2Kernel', '/x');
    expect(ex.title).toBe('Kernel2Kernel');
    expect(ex.requires).toEqual(['setup/one-node']);
    expect(ex.run).toEqual(['# a bash comment is not a heading\nnsm-local apply -f - <<EOF\npods: []\nEOF']);
    expect(ex.cleanup).toEqual(['nsm-local delete nsc']);
  });
});
