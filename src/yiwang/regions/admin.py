from django.contrib import admin

from .models import Counter, Department, Region, ServiceHall


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "standard", "note")
    list_filter = ("level", "standard")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "kind", "code", "phone")
    list_filter = ("kind", "region__level")
    search_fields = ("name", "region__name", "region__code")
    autocomplete_fields = ("region",)


class CounterInline(admin.TabularInline):
    model = Counter
    extra = 0
    filter_horizontal = ("departments",)


@admin.register(ServiceHall)
class ServiceHallAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "address", "phone")
    search_fields = ("name", "region__name")
    autocomplete_fields = ("region",)
    inlines = [CounterInline]
