import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import PageHeader from './PageHeader.vue';

describe('PageHeader', () => {
  it('groups title and intro, and puts the slot in the actions area', () => {
    const wrapper = mount(PageHeader, { props: { title: 'Clients', intro: 'Who may provision' }, slots: { default: '<a class="btn" href="/new">Add</a>' } });
    // The same DOM the pages used to write by hand: the stylesheet and browser tests rely on it.
    expect(wrapper.html()).toBe(
      [
        '<header class="page-header">',
        '  <div>',
        '    <h1>Clients</h1>',
        '    <p>Who may provision</p>',
        '  </div>',
        '  <div class="header-actions"><a class="btn" href="/new">Add</a></div>',
        '</header>',
      ].join('\n'),
    );
  });

  it('leaves out the actions area without a slot and the intro block without an intro', () => {
    const wrapper = mount(PageHeader, { props: { title: 'New client' } });
    expect(wrapper.find('header.page-header > h1').text()).toBe('New client');
    expect(wrapper.find('p').exists()).toBe(false);
    expect(wrapper.find('.header-actions').exists()).toBe(false);
  });

  it('leaves out the actions area when a conditional slot is not given', () => {
    const wrapper = mount({
      components: { PageHeader },
      props: { canAdd: Boolean },
      template: '<PageHeader title="Clients" intro="Intro"><template v-if="canAdd" #default><button>Add</button></template></PageHeader>',
    });
    expect(wrapper.find('.header-actions').exists()).toBe(false);
  });

  it('takes an intro with markup from the intro slot', () => {
    const wrapper = mount(PageHeader, { props: { title: 'alice' }, slots: { intro: '<span class="badge badge-ok">Active</span>' } });
    expect(wrapper.find('header > div > p > span.badge').text()).toBe('Active');
    expect(wrapper.find('header > div > h1').text()).toBe('alice');
  });
});
