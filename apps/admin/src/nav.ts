import { messages } from './messages.ts';

/** One entry of the main navigation: a named route and its label. */
export interface NavItem {
  route: string;
  label: string;
}

export interface NavSection {
  label: string;
  items: NavItem[];
}

/**
 * The main navigation, as data: a new screen adds its item here (and its route in router.ts); the layout
 * draws whatever this lists, in the sidebar on wide screens and behind the menu button on narrow ones.
 */
export const navSections: NavSection[] = [
  {
    label: messages.nav.configuration,
    items: [
      { route: 'clients', label: messages.nav.clients },
      { route: 'providers', label: messages.nav.providers },
      { route: 'applications', label: messages.nav.applications },
      { route: 'settings', label: messages.nav.settings },
      { route: 'admins', label: messages.nav.admins },
      { route: 'schema-extensions', label: messages.nav.schemaExtensions },
      { route: 'event-streams', label: messages.events.nav },
    ],
  },
  {
    label: messages.nav.directory,
    items: [
      { route: 'users', label: messages.nav.users },
      { route: 'groups', label: messages.nav.groups },
      { route: 'activity', label: messages.nav.activity },
    ],
  },
];
