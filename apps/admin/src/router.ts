import { createRouter, createWebHistory } from 'vue-router';
import HomeView from './views/HomeView.vue';

export const router = createRouter({
  history: createWebHistory('/admin/'),
  routes: [{ path: '/', name: 'home', component: HomeView }],
});
