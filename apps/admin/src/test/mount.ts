import { mount, type ComponentMountingOptions } from '@vue/test-utils';
import type { Component } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import type { Pinia } from 'pinia';
import { routes } from '../router.ts';

/** Mounts a view with the app's routes on an in-memory history and the given Pinia (from setupApi). */
export async function mountWithApp<C extends Component>(component: C, pinia: Pinia, options: ComponentMountingOptions<C> & { path?: string } = {}) {
  const router = createRouter({ history: createMemoryHistory('/admin/'), routes });
  await router.push(options.path ?? '/');
  await router.isReady();
  const wrapper = mount(component, { ...options, attachTo: document.body, global: { plugins: [pinia, router] } } as ComponentMountingOptions<C>);
  return { wrapper, router };
}
