// What a Vue app puts in its env.d.ts to type <face-login> in templates.
import type {} from 'face-login/vue';
