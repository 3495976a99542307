// Declarations for the Dear ImGui SDL2 platform backend compiled from libimgui-dev's example
// sources (Debian ships the .cpp without its header). Only the entry points Cine uses.
#pragma once
#include "imgui.h"
struct SDL_Window;
typedef union SDL_Event SDL_Event;
IMGUI_IMPL_API bool ImGui_ImplSDL2_InitForSDLRenderer(SDL_Window* window);
IMGUI_IMPL_API void ImGui_ImplSDL2_Shutdown();
IMGUI_IMPL_API void ImGui_ImplSDL2_NewFrame();
IMGUI_IMPL_API bool ImGui_ImplSDL2_ProcessEvent(const SDL_Event* event);
