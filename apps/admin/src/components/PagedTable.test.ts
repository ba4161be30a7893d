import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { h } from 'vue';
import PagedTable from './PagedTable.vue';

const list = (items: string[], offset = 0) => ({ items, total: 30, limit: 25, offset, setOffset: () => undefined });

describe('PagedTable', () => {
  it('puts the attributes on the table, renders head and rows, and pages with the list', async () => {
    const offsets: number[] = [];
    const wrapper = mount(PagedTable, {
      props: { list: { ...list(['a', 'b']), setOffset: (n: number) => offsets.push(n) }, columns: 1, empty: 'Nothing' },
      attrs: { 'data-testid': 'thing-table', 'aria-label': 'Things' },
      slots: { head: () => h('tr', [h('th', 'Name')]), default: () => ['a', 'b'].map((x) => h('tr', [h('td', x)])) },
    });
    const table = wrapper.get('[data-testid="thing-table"]');
    expect(table.element.tagName).toBe('TABLE');
    expect(table.attributes('aria-label')).toBe('Things');
    expect(wrapper.find('.table-wrap').attributes('data-testid')).toBeUndefined();
    expect(table.findAll('thead th').map((th) => th.text())).toEqual(['Name']);
    expect(table.findAll('tbody td').map((td) => td.text())).toEqual(['a', 'b']);
    await wrapper.findAll('nav button')[1]!.trigger('click');
    expect(offsets).toEqual([25]);
  });

  it('shows the empty text across all columns when the page has no rows', () => {
    const wrapper = mount(PagedTable, { props: { list: list([]), columns: 4, empty: 'Nothing' } });
    const cell = wrapper.get('tbody td');
    expect(cell.text()).toBe('Nothing');
    expect(cell.attributes('colspan')).toBe('4');
  });
});
